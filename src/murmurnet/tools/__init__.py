"""Tools agents use; the calculator runs model-written programs safely."""
