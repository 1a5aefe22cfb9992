"""Where a run's results go: the stores (a local folder, an S3 bucket), the run claim that lets one delivery of
many write a run, the run record (``run.json``), the commit sequence, and a local run's output layout."""
