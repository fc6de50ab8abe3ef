// Copy button of the out-of-band page (served from /assets: the CSP forbids inline script).
document.addEventListener('DOMContentLoaded', () => {
  const button = document.getElementById('copy');
  const status = document.getElementById('copy-status');
  if (!button) return;
  button.addEventListener('click', async () => {
    const input = document.getElementById(button.dataset.target);
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = 'Copied.';
    } catch {
      // Clipboard API refused (plain HTTP, permissions): the text is selected for Ctrl+C.
      status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  });
});
