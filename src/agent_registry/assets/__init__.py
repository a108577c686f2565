"""Asset manifests, bundles and their canonical hashing."""
