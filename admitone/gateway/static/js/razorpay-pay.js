// Opens Razorpay Checkout on the payment's order when Razorpay's script has loaded; otherwise
// the button submits the page's plain form to Razorpay's hosted checkout. Either way Razorpay
// posts the signed result to the form's callback URL, where admitone verifies it.
const form = document.getElementById("razorpay-pay");
if (form) {
  form.addEventListener("submit", (event) => {
    if (typeof window.Razorpay !== "function") return; // no script: the plain form goes
    event.preventDefault();
    const data = form.dataset;
    const checkout = new window.Razorpay({
      key: data.key,
      order_id: data.orderId,
      amount: Number(data.amount),
      currency: data.currency,
      name: "admitone",
      description: data.description,
      prefill: { email: data.email },
      callback_url: data.callbackUrl,
      redirect: true,
    });
    checkout.open();
  });
}
