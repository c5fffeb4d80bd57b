"""Build the tiny random BERT that configs/smoke.yaml names: python scripts/make_tiny_model.py [PATH]"""

import sys
from pathlib import Path

from pipeline.modeling import build_tiny_encoder

target = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "models/tiny-random-bert")
print(build_tiny_encoder(target))
