"""The eval bar: pure check functions over a bundle and its manifest, and a runner."""
