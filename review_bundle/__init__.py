"""The review bundle: the synthesized cloud assembly (``cdk.out/``) turned into Markdown and
diagrams a person can review without knowing CDK or CloudFormation (``make review``).

One module per job: ``summary`` (per environment), ``iam``, ``findings``, ``diff``,
``limits``, ``diagram`` and ``cost``; ``assembly``, ``template`` and ``modes`` read the
assembly; ``bundle`` writes everything and the index.
"""
