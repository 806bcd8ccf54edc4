"""SQL implementations of the domain's repositories (`workflows.ports`)."""
