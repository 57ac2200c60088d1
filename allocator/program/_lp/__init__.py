"""The compile-free linear path: the single-period LP as sparse matrices built from the layout's index arrays.

``support.py`` says which problems it serves (an explicit list of layout features; anything else goes to the
cvxpy program), ``values.py`` computes the program's scaled numbers in numpy (the same numbers the cvxpy
parameters get), ``matrices.py`` assembles the constraint matrix, bounds and costs of the cost, moves and elastic
phases. Running it is solve/_highs.py's job (program/ never imports solve/).
"""
