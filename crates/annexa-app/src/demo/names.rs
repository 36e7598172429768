//! Name lists for the synthetic workforce.

pub const GIVEN: &[&str] = &[
    "Ada", "Alan", "Amara", "Anna", "Arjun", "Ben", "Bianca", "Carlos", "Chen", "Chloe", "Daniel", "Dara", "David",
    "Diego", "Elena", "Elif", "Emma", "Ethan", "Farah", "Felix", "Fatima", "Gabriel", "Grace", "Hana", "Hannah",
    "Hugo", "Ibrahim", "Ines", "Isaac", "Ivan", "Jack", "Jamal", "Jana", "Javier", "Jin", "Joao", "Julia", "Kai",
    "Karin", "Kenji", "Laila", "Lars", "Leah", "Leo", "Lina", "Lucas", "Luis", "Maya", "Marco", "Maria", "Mateo",
    "Mei", "Mila", "Mohamed", "Nadia", "Naveen", "Nina", "Noah", "Nora", "Olga", "Oliver", "Omar", "Paula", "Pedro",
    "Priya", "Rafael", "Rana", "Ravi", "Rosa", "Ruth", "Sam", "Sara", "Sebastian", "Selin", "Sofia", "Sven", "Tariq",
    "Thomas", "Tomas", "Uma", "Valentina", "Victor", "Wei", "Will", "Xavier", "Yara", "Yusuf", "Zara", "Zoe",
    "Aisha", "Bruno", "Camila", "Dmitri", "Eva", "Finn", "Greta", "Henrik", "Ingrid", "Jonas", "Kofi",
];

pub const FAMILY: &[&str] = &[
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Becker", "Bianchi", "Brown", "Castro", "Chen", "Costa",
    "Davies", "Dubois", "Eriksson", "Evans", "Fischer", "Fernandes", "Garcia", "Gomez", "Gupta", "Hansen", "Hoffmann",
    "Hughes", "Ivanova", "Jansen", "Jensen", "Johnson", "Kaur", "Keller", "Khan", "Kim", "Kowalski", "Kruger", "Lambert",
    "Larsen", "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Muller", "Murphy", "Nakamura", "Nguyen", "Novak",
    "Okafor", "Olsen", "Ortiz", "Park", "Patel", "Perez", "Petrov", "Rossi", "Santos", "Sato", "Schmidt", "Schneider",
    "Silva", "Singh", "Smith", "Sousa", "Suzuki", "Tanaka", "Taylor", "Thomas", "Torres", "Tran", "Varga", "Vogel",
    "Wagner", "Walker", "Wang", "Weber", "Wilson", "Wong", "Yamamoto", "Yilmaz", "Young", "Zhang", "Zimmermann",
    "Almeida", "Berg", "Carter", "Dahl", "Engel", "Fox", "Gallo", "Holm", "Ito", "Jovanovic", "Koch", "Lund", "Mendes",
    "Nilsen", "Otto", "Pires", "Quinn", "Reyes", "Sala", "Ueda",
];
