def main() -> None:
    """Placeholder replaced below."""
