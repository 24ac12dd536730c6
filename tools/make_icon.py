"""Draw digitpad's application icon (resources/icons/digitpad.png) with Pillow: a paper pad with a
handwritten 7 and, beside it, the probability bars the app shows. Run by hand when it changes."""

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
OUT = Path(__file__).resolve().parents[1] / "resources" / "icons" / "digitpad.png"


def draw(size: int = SIZE) -> Image.Image:
    s = size / 256
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(icon)
    d.rounded_rectangle([8 * s, 8 * s, 248 * s, 248 * s], radius=40 * s, fill=(36, 52, 84, 255))
    d.rounded_rectangle([28 * s, 28 * s, 170 * s, 228 * s], radius=14 * s, fill=(250, 250, 246, 255))
    seven = [(52, 64), (144, 60), (120, 110), (96, 204)]
    d.line([(x * s, y * s) for x, y in seven], fill=(20, 20, 24, 255), width=int(16 * s), joint="curve")
    for i, height in enumerate((18, 10, 150)):  # a low, a lower, and the winning bar
        x = 186 + i * 20
        colour = (255, 196, 61, 255) if height == 150 else (140, 160, 200, 255)
        d.rectangle([x * s, (228 - height) * s, (x + 14) * s, 228 * s], fill=colour)
    return icon


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUT)
    print(f"wrote {OUT}")
