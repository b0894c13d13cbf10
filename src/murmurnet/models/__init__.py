"""Model backends behind the batch-first contract; see `base.Backend`."""
