"""From sources to an environment: the build (deterministic zips and the layer, from locked
dependencies), publishing and promoting artifacts by hash, and terraform per environment."""
