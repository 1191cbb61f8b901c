"""Results I/O: run directories, their schema, the leaderboard."""
