"""A tiny Qwen2-style chat model (byte-level BPE, ChatML template, Qwen2.5's sampling defaults) for the chat backends' and the LLM judge's tests."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mteval.testing._build import SEED, cached_build
from mteval.testing.tiny_spm import seed_text

# Qwen2's ChatML template (the Qwen2.5 one minus tool calling).
CHATML_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if not (loop.first and message['role'] == 'system') %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
# Qwen2.5-1.5B-Instruct's generation_config.json: sampling with a repetition penalty. The tiny chat
# model ships the same, so a backend that lets them leak into "greedy" decoding is caught.
QWEN_GENERATION_DEFAULTS = dict(do_sample=True, temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.1)
# Qwen2's pre-tokenizer split (tokenizer.json of Qwen/Qwen2.5-*).
_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def build_chat_lm(
    out_dir: Path, *, vocab_size: int = 1000, text_files: Iterable[Path] | None = None, seed: int = SEED
) -> Path:
    """Build a tiny `Qwen2ForCausalLM` with a byte-level BPE fast tokenizer and a ChatML template.

    Its `generation_config.json` samples with a repetition penalty, as Qwen2.5-Instruct's does.

    Special tokens sit after the BPE vocab as in Qwen2.5: `<|endoftext|>` (pad),
    `<|im_start|>`, `<|im_end|>` (eos; generation also stops at `<|endoftext|>`).
    Byte-level BPE encodes any input without `<unk>`. Padding is on the left, ready
    for batched generation.
    """
    files = None if text_files is None else list(text_files)

    def build(tmp: Path) -> None:
        import torch
        from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
        from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM, Qwen2TokenizerFast

        bpe = Tokenizer(models.BPE())
        bpe.normalizer = normalizers.NFC()
        bpe.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(_QWEN2_SPLIT), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        bpe.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
        )
        bpe.train_from_iterator(seed_text(files), trainer)
        bpe.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])  # Qwen2's order
        tokenizer = Qwen2TokenizerFast(
            tokenizer_object=bpe,
            unk_token=None,
            eos_token="<|im_end|>",
            pad_token="<|endoftext|>",
            additional_special_tokens=["<|im_start|>", "<|im_end|>"],
            chat_template=CHATML_TEMPLATE,
            padding_side="left",
            model_max_length=4096,
        )
        tokenizer.save_pretrained(tmp)
        eos, pad = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
        torch.manual_seed(seed)
        config = Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            bos_token_id=pad,
            eos_token_id=eos,
            pad_token_id=pad,
        )
        model = Qwen2ForCausalLM(config)
        model.generation_config = GenerationConfig(
            bos_token_id=pad, eos_token_id=[eos, pad], pad_token_id=pad, max_new_tokens=32, **QWEN_GENERATION_DEFAULTS
        )
        model.save_pretrained(tmp)

    return cached_build(out_dir, "chat", build)
