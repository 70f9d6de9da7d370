from prefect import flow


@flow(log_prints=True)
def live_score(league: str = "nba", write_manifest: bool = True) -> None:
    print(f"polling live scores for {league}")
