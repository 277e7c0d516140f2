"""The rasa-sdk action server: one module per capability, each thin.

Importing the package (as ``rasa run actions`` does) installs the log filter that
masks phone numbers, CCCD numbers and tip text in every log line of the process.
"""

from services import privacy

privacy.install()
