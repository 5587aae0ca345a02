"""Mutation testing of hidden suites: `operators` makes small wrong variants of a reference,
`run` grades them like learner files, `report` shows which the suite lets through."""
