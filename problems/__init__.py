"""Problem modules: one module per problem, each registering one generator.Problem."""
