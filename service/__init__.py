"""The service: the application (use cases), HTTP API, command line, settings and store."""
