"""What the SageMaker XGBoost container accepts: its images (and their XGBoost releases), its hyperparameter
rules and its label rules.  Data about the container, imported by the configuration and the parts above it."""
