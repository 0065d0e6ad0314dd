"""The shop of the cachetape end-to-end test: one model, Order."""
