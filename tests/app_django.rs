//! A Django app end to end: Django 5.2's built-in `RedisCache` (its default pickle serializer,
//! so Redis holds `:1:order:{id}` → pickle protocol 5 of `model_to_dict(order)`: a dict with a
//! `Decimal` and an aware `datetime`) over a private redis-server, and MariaDB through
//! `django.db.backends.mysql`, runs a cache-aside load with stalling readers
//! (`tests/apps/django/app.py`) while `cachetape record` records it. With no mapping file,
//! `analyze` and `replay --perturb 5ms` must judge at least 99% of the hits, flag every read the
//! app's own log proves stale, and call no read it proves fresh stale-definite.
//!
//! `app.py run --serializer json` stores plain JSON instead (to tell a harness problem from a
//! decoding one by hand; no test runs it: the workload tests cover plain JSON).
//!
//! The app's Python packages live in a venv that `scripts/test.sh` creates
//! (`$HOME/.cache/cachetape/django-venv`, or under `$CACHETAPE_APPS_CACHE`).

use crate::app_support::{App, app_dir, apps_cache, judge, record, require_installed};

fn django(run_options: &[&str]) -> App {
    let venv = apps_cache().join("django-venv");
    let pins = app_dir("django").join("requirements.txt");
    let what = "the Django app's venv (Django, PyMySQL, redis)";
    require_installed(&venv.join("installed-requirements.txt"), &pins, what);
    let python = venv.join("bin/python");
    App {
        name: "django",
        program: python,
        args: vec![app_dir("django").join("app.py").display().to_string()],
        run_options: run_options.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn django_redis_cache_with_its_default_pickle_is_judged_against_the_apps_log() {
    let app = django(&[]);
    let run = record(&app, "ct_app_django");
    judge(&app, &run);
}

#[test]
fn django_redis_cache_holding_pickled_model_instances_is_judged_against_the_apps_log() {
    // `cache.set(key, order)`: the pickle of a model instance (`model_unpickle`, its `__dict__`
    // with `_state`), which cachetape reads as the instance's field dict.
    let app = django(&["--cache", "instance"]);
    let run = record(&app, "ct_app_django_instance");
    judge(&app, &run);
}

#[test]
fn django_redis_cache_holding_pickled_json_text_is_judged_against_the_apps_log() {
    // `cache.set(key, json.dumps(model_to_dict(order), cls=DjangoJSONEncoder))`: Django pickles
    // the str (only ints skip pickling), so Redis holds a pickle of JSON text, which cachetape
    // reads as the JSON document it holds (the total as DjangoJSONEncoder's string, the time
    // with milliseconds and `Z`).
    let app = django(&["--cache", "json-text"]);
    let run = record(&app, "ct_app_django_json_text");
    judge(&app, &run);
}
