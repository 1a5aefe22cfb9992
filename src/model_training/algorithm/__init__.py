"""What the SageMaker XGBoost container accepts: its images (and their XGBoost releases), its hyperparameter
rules, its label rules, and what a hyperparameter search may tune (with SageMaker's tuning limits).  Data about
the container, imported by the configuration and the parts above it."""
