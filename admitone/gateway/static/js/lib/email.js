// The e-mail rule of the booking forms. The pattern is the API's own (the `Email` type the
// booking routes validate with, admitone/booking_core/models.py): the page renders it on the
// input as `data-email-pattern`, so the script and the server can never disagree.

/** Whether `value` (trimmed) is an address the server will take for `input`'s form. */
export function isEmail(input, value = input.value.trim()) {
  const pattern = input.dataset.emailPattern;
  if (!pattern) {
    // No rule rendered: anything non-empty goes to the server, which says 422 if it must.
    return value !== "";
  }
  return new RegExp(pattern).test(value);
}
