"""Data layer: finding corpora (shared, bundled, downloaded) and the one text pipeline that
every text technique reads through (docs/architecture.md):

    textfile.py  the reader (files, .gz/.xz, standard input), strict UTF-8
    tokenize.py  the Tokenizer protocol and the one registry (word, char, codepoint, text8; zh)
    corpora.py   the corpus registry and TextCorpus, the one corpus object
    vocab.py     Vocab: counts, min_count, max_size, specials, orders, file formats
    pipeline.py  TextOptions (tokenizer, lowercase, min_count, max_vocab), the options every
                 text command takes and every model file records
    batching.py  token lists -> ids (one stream; sentences)
"""
