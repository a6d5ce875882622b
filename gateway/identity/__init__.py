"""Identity: facts about a person that sources disagree on wait for a person to resolve."""
