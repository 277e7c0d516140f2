"""The rasa-sdk action server: one module per capability, each thin."""
