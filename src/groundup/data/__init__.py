"""Data layer: finding corpora (shared, bundled, downloaded), tokenizers, vocabularies."""
