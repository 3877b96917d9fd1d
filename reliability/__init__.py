"""The reliability suite: real PolicyHub servers on real databases, nine scenarios, one table of figures.

``python -m reliability --form ci|long --backends sqlite,postgres [--only 1,3]`` (see README.md).
"""
