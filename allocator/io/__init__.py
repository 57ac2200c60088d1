"""Reading and writing: safe file reading (``documents``), problem files (``loading``), the shipped data folders
(``data_files``) and example problems (``examples``), and random problems for tests and benchmarks (``generate``).
"""
