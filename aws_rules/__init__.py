"""AWS's own rules, checked against synthesized templates (see ``aws_rules.rules``)."""
