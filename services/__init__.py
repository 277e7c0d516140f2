"""Domain logic and storage. Plain Python: no Rasa imports here."""
