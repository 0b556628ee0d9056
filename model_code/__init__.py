"""Model code: the inference handler shipped inside ``model.tar.gz`` and the build that packs it."""
