"""MT systems: a tiny base class and one backend per module (Hugging Face seq2seq and chat, CTranslate2, file, copy)."""
