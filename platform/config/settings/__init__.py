"""Settings modules: base (shared, embedded defaults), local, test, production."""
