//! Country and region of a node from the coordinates telemetry reports for
//! it, offline: telemetry locates nodes by IP; this turns the point into an
//! ISO 3166-1 country and, where the data has one, an ISO 3166-2
//! subdivision (`UA-43` is Crimea). Boundaries: ODbL, © OpenStreetMap
//! contributors (the `country-boundaries` crate's data).

use std::sync::OnceLock;

use country_boundaries::{BOUNDARIES_ODBL_180X90, CountryBoundaries, LatLon};

fn boundaries() -> Option<&'static CountryBoundaries> {
    static B: OnceLock<Option<CountryBoundaries>> = OnceLock::new();
    // Compiled-in data: only a broken build fails here (the tests below
    // would), and locations then stay unknown rather than wrong.
    B.get_or_init(|| CountryBoundaries::from_reader(BOUNDARIES_ODBL_180X90).ok()).as_ref()
}

/// Where a point is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// ISO 3166-2 subdivision code, when the data distinguishes one there.
    pub region: Option<String>,
}

/// The place at a latitude and longitude; `None` at sea, for impossible
/// coordinates, or for a point the data does not cover.
pub fn locate(latitude: f64, longitude: f64) -> Option<Place> {
    let position = LatLon::new(latitude, longitude).ok()?;
    // Smallest area first: ["UA-43", "UA"].
    let ids = boundaries()?.ids(position);
    let country = ids.iter().find(|id| !id.contains('-'))?.to_string();
    // The data places some subdivisions in another country than their code
    // says (Crimea: ["UA-43", "RU"]); both are kept as the data has them.
    let region = ids.iter().find(|id| id.contains('-')).map(|id| id.to_string());
    Some(Place { country, region })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_become_countries_and_subdivisions() {
        assert_eq!(locate(55.75, 37.62).map(|p| p.country), Some("RU".into()), "Moscow");
        assert_eq!(locate(47.37, 8.54).map(|p| p.country), Some("CH".into()), "Zurich");
        let crimea = locate(44.95, 34.10).expect("Simferopol");
        assert_eq!((crimea.country.as_str(), crimea.region.as_deref()), ("RU", Some("UA-43")));
        assert_eq!(locate(44.6, 33.52).and_then(|p| p.region), Some("UA-40".into()), "Sevastopol");
        assert_eq!(locate(33.0, -97.0).and_then(|p| p.region), Some("US-TX".into()), "Dallas");
        assert_eq!(locate(-40.0, -130.0), None, "the South Pacific");
        assert_eq!(locate(91.0, 0.0), None, "not a latitude");
        assert_eq!(locate(f64::NAN, 0.0), None);
    }
}
