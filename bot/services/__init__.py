"""Business rules, free of Flask and LINE types: they take a session and plain values."""
