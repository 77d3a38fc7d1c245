"""Model types and their persistence: the zoo, the NumPy nets, the store, loading, ensembles, selection."""
