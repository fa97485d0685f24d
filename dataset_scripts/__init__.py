"""PhysioNet ``datasets`` builders (installed as ``heartbert_hf.dataset_scripts``)."""
