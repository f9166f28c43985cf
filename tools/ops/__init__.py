"""Operating an environment: data it needs (seeding), and what on-call and platform leads
reach for after the deploy."""
