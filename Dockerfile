# The Lambda function image: AWS's Python 3.12 base image with the package and its runtime dependencies
# only (no xgboost, matplotlib, scikit-learn, moto or dev tools).
FROM public.ecr.aws/lambda/python:3.12

COPY pyproject.toml README.md ${LAMBDA_TASK_ROOT}/src/
COPY src/ ${LAMBDA_TASK_ROOT}/src/src/
RUN pip install --no-cache-dir "${LAMBDA_TASK_ROOT}/src" --target "${LAMBDA_TASK_ROOT}" \
    && rm -rf "${LAMBDA_TASK_ROOT}/src"

CMD ["model_training.lambda_handler"]
