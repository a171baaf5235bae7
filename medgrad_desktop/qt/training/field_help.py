"""One plain line per field of the New run dialog, for a clinician who is not a programmer:
what the setting means and a sensible value."""

FIELD_HELP = {
    "data_format": "A folder of images with one description each, or one table of image, "
    "text and diagnosis.",
    "data": "Your lesion images. No data yet? “Make sample data…” writes a synthetic set.",
    "descriptions": "One text per image, in file-name order; its first words (up to the full "
    "stop) are the diagnosis.",
    "base_kind": "The model to start from: the small demo model (quick to try) or a full-size "
    "CLIP model.",
    "base_path": "The model's folder (Hugging Face or open_clip) or its .pth file.",
    "method": "Full: all weights learn (slowest). Frozen: only the last layers. LoRA: small "
    "add-on weights.",
    "trainable_layers": "How many last layers of the image and text parts may change; "
    "2 is a good start.",
    "lora_rank": "Size of the add-on weights: larger learns more, needs more images. 8 is a "
    "sensible default.",
    "epochs": "How often the model sees every training image. 10 is a sensible start; "
    "too many memorise.",
    "batch_size": "Images compared at once: larger is steadier but needs more memory. 32; "
    "8–16 on a laptop.",
    "lr": "Size of each learning step; too large goes astray. 1e-4 for full fine-tuning, "
    "up to 1e-3 for LoRA.",
    "device": "auto: the graphics card (CUDA) when there is one, otherwise the processor.",
    "name": "A short word for this run; the Jobs list shows it with the date and time.",
    "out": "Where the run's folder (trained model, curves, log) is written.",
}
