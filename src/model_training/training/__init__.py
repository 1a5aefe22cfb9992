"""Training jobs: the ``CreateTrainingJob`` request of a committed run, created once, and its outcome recorded
(``jobs.py``); the backends that run them: SageMaker, and XGBoost on this machine as the container trains."""
