from prefect import flow


@flow
def build_projections(horizon_days: int = 7) -> None:
    print(f"building projections for {horizon_days} days")
