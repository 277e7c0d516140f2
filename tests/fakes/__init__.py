"""Local fakes of outside services, for tests and `make zalo-sim`."""
