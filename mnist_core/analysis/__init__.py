"""Numbers and pictures about models: evaluation metrics, explanations, the leaderboard."""
