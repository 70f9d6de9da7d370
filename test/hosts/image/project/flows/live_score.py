import datetime
import json
import os
from pathlib import Path

from prefect import flow

MANIFESTS = Path("/home/daniel/projections-data/manifests")


@flow(log_prints=True)
def live_score(league: str = "nba", write_manifest: bool = True) -> None:
    print(f"polling live scores for {league}")
    if write_manifest:
        # One manifest per run, under manifests/{date}/{task}/, as the seed describes.
        run_id = os.environ.get("PREFECT__FLOW_RUN_ID", "local")
        folder = MANIFESTS / datetime.date.today().isoformat() / "live-score"
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"flow_run_id": run_id, "league": league, "source": os.path.abspath(__file__), "cwd": os.getcwd()}
        (folder / f"{run_id}.json").write_text(json.dumps(manifest) + "\n")
