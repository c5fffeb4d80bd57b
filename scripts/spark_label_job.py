"""spark-submit entry point for `argmine spark-label` (spark-submit runs a file, not `-m module`).

    spark-submit [spark options] scripts/spark_label_job.py INPUT --model M --out DIR
"""

import sys

from pipeline.cli import main

if __name__ == "__main__":
    sys.argv = ["argmine", "spark-label", *sys.argv[1:]]
    main()
