"""The bottom layer: named in-process events between apps, the worker's job list and its
database leases. It imports no other app; every app may import it."""
