/*!
A trace and a mapping → independent [`Component`]s (skeleton: being written).
*/

use super::model::Component;

/// The components of a trace.
pub fn components_placeholder() -> Vec<Component> {
    Vec::new()
}
