"""The shipped problems: one module per problem, each registering one wsgen.Problem."""
